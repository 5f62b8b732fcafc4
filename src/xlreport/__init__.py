"""xlreport: validate, fill and write the interim report in Swedish municipal Excel workbooks."""

__version__ = "0.1.0"
