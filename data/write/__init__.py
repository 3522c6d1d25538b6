"""The write side: services that change rows and append their events."""
