"""The demo plant: its catalog, the history seed and the live simulator."""
