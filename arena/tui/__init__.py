"""The Textual arena: lobby, tables, secret panel, observer, debrief, replay."""
