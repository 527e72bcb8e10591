"""One widget per module: the tree, the details, the verdicts, the ranking."""
