"""Storage: readings and warning events to InfluxDB, with a durable spool for outages."""
