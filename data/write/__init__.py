"""The write side: one module per aggregate (machines, production, tickets), the outbox that
runs their transactions and records their events, and the `Services` facade over them."""
