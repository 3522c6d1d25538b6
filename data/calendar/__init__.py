"""The plant's calendar: its time zone, named shifts (with breaks) and planned stops, and the
pure arithmetic on it (which instants are planned production time, plant-local buckets)."""
