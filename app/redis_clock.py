"""The Lua prelude of the Redis scripts that count caps and throttles: `now` in milliseconds
from Redis's own clock, so that processes on hosts with skewed clocks agree."""

from __future__ import annotations

NOW_MS = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""
