"""The notification router: routing, grouping, silences, acknowledgement, channels and CAP."""
