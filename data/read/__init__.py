"""The read side: queries aggregated in SQL, KPIs, records and the CSV export."""
