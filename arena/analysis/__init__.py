"""Analysis of saved games: the statistics, the collusion report, and the observability demo."""
