"""trustkeep's Textual TUI for key ceremonies (installed as ``trustkeep_tui``)."""
