"""Pure hazard indicators: fire weather, rain thresholds, slope failure, gas exposure, trends."""
