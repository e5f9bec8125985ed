"""monitor.dedup.fingerprints: normalisation, content hash, MinHash signatures, LSH band keys, the near-duplicate rule."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.dedup import fingerprints as dedup
from monitor.settings import MONITOR_NEAR_DUP_THRESHOLD
from tests.support.dedup_samples import BOILERPLATE, BYLINE, EDITOR_NOTE, EXACT_COPY, NEAR_COPY, OTHER_TOPIC, SAME_TOPIC, STORY


def sig(text):
    return dedup.minhash(text)


# --------------------------------------------------------------------------- normalisation and exact hash

def test_normalise_text():
    assert dedup.normalise_text("  Hello,\n\tWORLD — it’s “here”!  ") == "hello world it s here"
    assert dedup.normalise_text("Қазақстан  және АҚШ") == "қазақстан және ақш"
    assert dedup.normalise_text("ﬁne ﬀ") == "fine ff"                      # NFKC
    assert dedup.normalise_text("") == "" and dedup.normalise_text(None) == ""


def test_cjk_is_tokenised_per_character():
    assert dedup.tokens("東京都 Tokyo") == ["東", "京", "都", "tokyo"]


def test_content_hash_ignores_typography_only():
    assert dedup.content_hash(STORY) == dedup.content_hash(EXACT_COPY)
    assert dedup.content_hash("A “quoted” text.") == dedup.content_hash('a "quoted"   TEXT')
    assert dedup.content_hash(STORY) != dedup.content_hash(STORY + " One more sentence.")
    assert len(dedup.content_hash(STORY)) == 64


# --------------------------------------------------------------------------- signatures

def test_minhash_equals_datasketch():
    from datasketch import MinHash

    hv = dedup.shingle_hashes(STORY)
    m = MinHash(num_perm=dedup.NUM_PERM, seed=dedup.SEED, scheme="affine32", hashfunc=lambda x: x)
    m.update_batch(hv.tolist())
    ours = dedup.minhash(STORY)
    assert np.array_equal(ours.hashvalues, m.hashvalues)
    assert ours.size == len(hv)
    other = MinHash(num_perm=dedup.NUM_PERM, seed=dedup.SEED, scheme="affine32", hashfunc=lambda x: x)
    other.update_batch(dedup.shingle_hashes(NEAR_COPY).tolist())
    assert dedup.jaccard_estimate(ours, dedup.minhash(NEAR_COPY)) == pytest.approx(m.jaccard(other))


def test_minhash_of_huge_text_is_chunked_and_equal():
    words = " ".join(f"w{i}" for i in range(20_000))
    hv = dedup.shingle_hashes(words)
    assert len(hv) > dedup._CHUNK
    a, b = dedup._permutations()
    with np.errstate(over="ignore"):
        direct = (dedup._fmix32(hv)[:, None] * a + b).min(axis=0)
    assert np.array_equal(dedup.minhash(hv).hashvalues, direct)


def test_signature_bytes_roundtrip():
    s = sig(STORY)
    blob = dedup.signature_to_bytes(s)
    assert isinstance(blob, bytes) and len(blob) == 10 + 4 * dedup.NUM_PERM
    assert dedup.signature_from_bytes(blob) == s
    assert dedup.signature_from_bytes(memoryview(blob)) == s
    assert dedup.fingerprint(STORY) == blob


@pytest.mark.parametrize("blob", [b"", b"xx", b"MH" + bytes(8), dedup.fingerprint("abc")[:-1],
                                  b"ZZ" + dedup.fingerprint("abc")[2:]])
def test_signature_from_bytes_rejects_other_formats(blob):
    with pytest.raises(ValueError):
        dedup.signature_from_bytes(blob)


def test_signature_of_other_version_rejected():
    blob = bytearray(dedup.fingerprint(STORY))
    blob[2] = dedup.SIGNATURE_VERSION + 1
    with pytest.raises(ValueError, match="another format"):
        dedup.signature_from_bytes(bytes(blob))


def test_empty_text():
    e = sig("")
    assert e.empty and dedup.band_keys(e) == []
    assert dedup.jaccard_estimate(e, sig(STORY)) == 0.0
    assert not dedup.is_near_duplicate(e, sig(""))


def test_minhash_is_deterministic_and_fast():
    text = " ".join((STORY + " " + SAME_TOPIC).split()[:1000])
    assert sig(text) == sig(text)
    dedup._token_hash.cache_clear()
    start = time.perf_counter()
    for _ in range(20):
        dedup._token_hash.cache_clear()
        dedup.minhash(text)
    per = (time.perf_counter() - start) / 20
    assert per < 0.02, f"MinHash of a 1,000-word text took {per * 1000:.1f} ms"


# --------------------------------------------------------------------------- band keys

def test_band_keys_are_signed_64_bit_and_band_specific():
    keys = dedup.band_keys(sig(STORY))
    assert len(keys) == dedup.BANDS == len(set(keys))
    assert all(isinstance(k, int) and -2**63 <= k < 2**63 for k in keys)
    # equal band values in different bands give different keys (the band number is folded in)
    hv = np.zeros(dedup.NUM_PERM, dtype=np.uint32)
    assert len(set(dedup.band_keys(dedup.Signature(hv, 5)))) == dedup.BANDS


def test_band_keys_bulk_matches_single():
    sigs = [sig(t) for t in (STORY, NEAR_COPY, SAME_TOPIC)]
    bulk = dedup.band_keys_bulk(np.stack([s.hashvalues for s in sigs]))
    assert bulk.dtype == np.int64 and bulk.shape == (3, dedup.BANDS)
    assert [list(map(int, row)) for row in bulk] == [dedup.band_keys(s) for s in sigs]


def test_near_copy_shares_bands_unrelated_do_not():
    a = set(dedup.band_keys(sig(STORY)))
    assert a & set(dedup.band_keys(sig(NEAR_COPY)))
    assert not a & set(dedup.band_keys(sig(OTHER_TOPIC)))
    assert not a & set(dedup.band_keys(sig(SAME_TOPIC)))


# --------------------------------------------------------------------------- the near-duplicate rule

def test_threshold_setting_is_the_default():
    assert dedup.NEAR_DUP_THRESHOLD == MONITOR_NEAR_DUP_THRESHOLD


@pytest.mark.parametrize("edited", [
    "A different headline for the same story\n\n" + STORY,            # changed title line
    EDITOR_NOTE + "\n\n" + STORY,                                     # editor's note
    BYLINE + "\n\n" + STORY,                                          # byline
    STORY.replace("By ", "") + "\nReporting by John Smith; editing by Mary Jones.",  # other byline at the end
    STORY + "\n" + BOILERPLATE,                                       # boilerplate
    NEAR_COPY,                                                        # all of them
    STORY.replace("Tuesday", "Wednesday").replace("a fifth", "20 percent"),   # small corrections
])
def test_edited_copies_are_near_duplicates(edited):
    assert dedup.is_near_duplicate(sig(STORY), sig(edited))
    assert dedup.is_near_duplicate(sig(edited), sig(STORY))     # symmetric


@pytest.mark.parametrize("other", [SAME_TOPIC, OTHER_TOPIC])
def test_different_articles_are_not_near_duplicates(other):
    assert not dedup.is_near_duplicate(sig(STORY), sig(other))
    assert dedup.jaccard_estimate(sig(STORY), sig(other)) < 0.1


def test_article_quoting_a_paragraph_is_not_a_duplicate():
    paragraph = STORY.split("\n\n")[1]
    follow_up = SAME_TOPIC + "\n\nEarlier this year, officials said: " + paragraph
    assert not dedup.is_near_duplicate(sig(STORY), sig(follow_up))


def test_short_article_in_a_long_one_is_not_a_duplicate():
    short = STORY.split("\n\n")[0] + "\n\n" + STORY.split("\n\n")[1]
    long = SAME_TOPIC + "\n\n" + short + "\n\n" + OTHER_TOPIC
    assert not dedup.is_near_duplicate(sig(short), sig(long))


def test_containment_rule_for_short_text_with_additions():
    short = " ".join(STORY.split()[:80])                 # a short wire item
    padded = f"{EDITOR_NOTE}\n{BYLINE}\n{short}\n{BOILERPLATE}"
    j = dedup.jaccard_estimate(sig(short), sig(padded))
    assert j < dedup.NEAR_DUP_THRESHOLD                  # Jaccard alone would miss it ...
    assert dedup.is_near_duplicate(sig(short), sig(padded))   # ... containment catches it


def test_threshold_argument():
    s, n = sig(STORY), sig(NEAR_COPY)
    j = dedup.jaccard_estimate(s, n)
    assert dedup.is_near_duplicate(s, n, threshold=j)
    assert not dedup.is_near_duplicate(s, sig(SAME_TOPIC), threshold=0.5)


def test_matches_best_first_and_skips_bad_blobs():
    s = sig(STORY)
    cands = [(5, dedup.fingerprint(NEAR_COPY)), (3, dedup.fingerprint(SAME_TOPIC)), (9, b"garbage"),
             (2, dedup.fingerprint(EXACT_COPY)), (7, dedup.fingerprint(""))]
    found = dedup.matches(s, cands)
    assert [cid for cid, _ in found] == [2, 5]
    assert found[0][1] == 1.0
    assert dedup.best_match(s, cands) == found[0]
    assert dedup.best_match(s, [(3, dedup.fingerprint(SAME_TOPIC))]) is None


# --------------------------------------------------------------------------- properties

_words = st.lists(st.sampled_from("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
                                  "omicron pi rho sigma tau upsilon phi chi psi omega".split()), min_size=0, max_size=60)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_signature_and_roundtrips(text):
    s = sig(text)
    assert dedup.signature_from_bytes(dedup.signature_to_bytes(s)) == s
    assert len(dedup.band_keys(s)) in (0, dedup.BANDS)
    assert dedup.content_hash(text) == dedup.content_hash(dedup.normalise_text(text))


@settings(max_examples=100, deadline=None)
@given(_words, _words)
def test_jaccard_estimate_is_symmetric_and_bounded(a, b):
    sa, sb = sig(" ".join(a)), sig(" ".join(b))
    j = dedup.jaccard_estimate(sa, sb)
    assert 0.0 <= j <= 1.0 and j == dedup.jaccard_estimate(sb, sa)
    if sa.size and sa == sb:
        assert j == 1.0
