"""Article texts for the dedup tests: one story, its edited copies, and other stories on the same topic."""

STORY = """\
Kazakhstan and the United States held their annual human rights dialogue in Astana on Tuesday, with
officials from both countries discussing freedom of expression, the independence of the judiciary and the
rights of workers to organise.

The American delegation was led by the deputy assistant secretary for democracy, human rights and labor,
who praised recent amendments to the law on peaceful assemblies but said that journalists still faced
criminal prosecution for their reporting. Kazakh officials presented a report on the implementation of the
national action plan, which includes a new procedure for registering public associations and a review of
the criminal code articles on the dissemination of false information.

Both sides agreed to continue consultations on the protection of migrant workers and on the prevention of
torture in places of detention. The ombudsman told the meeting that complaints about police conduct had
fallen by a fifth over the past year, a figure that civil society groups in Almaty disputed, pointing to
cases that never reached the courts.

The dialogue was established in 2019 as part of the enhanced strategic partnership between the two
countries. A joint statement released after the talks said the next round would take place in Washington
next spring and would include representatives of non-governmental organisations for the first time.
Observers noted that the tone of the meeting was constructive, although several questions raised by the
American side about the treatment of protesters detained in January remained without a detailed answer.
"""

EDITOR_NOTE = ("Editor's note: this article was updated on Wednesday to correct the title of the head of the "
               "American delegation and to add the date of the next round of talks.")
BYLINE = "By Anna Kowalska, Astana correspondent"
BOILERPLATE = ("Share this article: Facebook Twitter LinkedIn Email. Subscribe to our newsletter for the latest "
               "news from Central Asia. © 2024 Example News. All rights reserved.")

# the same story as republished elsewhere: new title line, editor's note, byline, boilerplate
NEAR_COPY = f"{EDITOR_NOTE}\n\n{BYLINE}\n\n{STORY}\n{BOILERPLATE}\n"

# the same text with other typography: quotes, dashes, spacing, case
EXACT_COPY = "  " + STORY.replace("\n", " ").replace("  ", " ").replace("Astana", "ASTANA") + "\n\n"

SAME_TOPIC = """\
Kazakhstan and the United States signed three agreements on energy and critical minerals in Astana on
Tuesday, as a delegation of American business leaders visited the capital for the annual investment forum.

The largest of the agreements covers the exploration of tungsten and lithium deposits in the east of the
country, where an American company will invest four hundred million dollars over six years. Kazakh
officials said the project would create about two thousand jobs and that processing would take place in
Kazakhstan rather than abroad. A second memorandum concerns the modernisation of the power grid, and a
third the training of engineers at universities in Almaty and Karaganda.

The American ambassador said the agreements showed the strength of the enhanced strategic partnership
between the two countries and that trade between them had grown by a quarter last year. The minister of
industry added that the government would simplify the licensing of mining projects and publish the results
of geological surveys online.

Analysts said the deals reflected a wider push by Washington to diversify supplies of critical minerals
away from China, while Astana is keen to attract Western investment without damaging its relations with
Moscow and Beijing. The forum also discussed a direct flight between New York and Almaty, which airlines
expect to launch next year, and the visa regime for business travellers.
"""

OTHER_TOPIC = """\
Heavy rain caused flooding in several districts of the northern region on Sunday, forcing the evacuation of
more than three hundred residents from villages along the river. Emergency services said water levels had
risen by almost two metres overnight after a dam upstream released water to protect its own structure.

Rescue teams used boats to reach families cut off by the water, and temporary shelters were set up in
schools in the regional centre. No casualties were reported, but dozens of houses were damaged and several
roads were closed to traffic. The regional governor visited the affected villages and promised
compensation to families whose homes were destroyed.

Meteorologists warned that more rain was expected over the coming days and advised residents to avoid
travelling near rivers. The ministry of emergency situations said it had sent additional equipment and
staff from neighbouring regions and that it would review the operation of the dam.
"""
