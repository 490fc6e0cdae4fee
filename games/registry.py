"""The games the arena knows, by the name the command line uses."""

from games.base import Game
from games.cleanup.engine import Cleanup
from games.liars_bar.engine import LiarsBar

GAMES: dict[str, type[Game]] = {LiarsBar.name: LiarsBar, Cleanup.name: Cleanup}
