"""Deviation commentary: the chase list of ``xlreport chase`` (the rules are in :mod:`xlreport.core.commentary`)."""
