"""Sources: where raw messages come from (MQTT live, or files for backtest)."""
