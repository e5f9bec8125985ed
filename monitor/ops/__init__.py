"""Operations: ``schedule`` (``monitor schedule``, adaptive polling) and ``health`` (``monitor health``)."""
