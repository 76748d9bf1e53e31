"""Training data and evaluation: the on-disk dataset, importers of captured takes, the torch Dataset, metrics."""
