"""Cleanup: a mixed-motive commons on a grid with a polluted river (preset `paper`)."""
