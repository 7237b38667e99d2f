"""Learned nowcasts: per-station regressors of the water level 1-6 h ahead (docs/FORECASTS.md)."""
