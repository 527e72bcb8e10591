"""Every policy's prediction as Prometheus metrics (research/fleet-prometheus.md §4).

`domains` and `victims` map a snapshot and its decisions to plain values,
`families` turns one `Collection` into metric families (pure, no I/O),
`exporter` keeps the warm collector, the cache and the single flight, and
`output` serves them over HTTP or writes the textfile. Only the last two
import `prometheus_client`'s serving parts.
"""
