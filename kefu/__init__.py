"""kefu: an analytics warehouse for e-commerce customer service scorecards."""

__version__ = "0.1.0"
