"""Helpers shared by the tests, the benchmarks and the scripts: a live server in a
subprocess, headless Chromium settings and plant factories."""
