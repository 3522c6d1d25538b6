"""Real-time delivery: the hub, its backends and the WebSocket endpoints (CONTRACT §3)."""
