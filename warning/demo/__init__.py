"""The demo: a local broker, the simulated storm, the live pipeline and a stand-in SMS gateway."""
