"""MotCua's application shell: the composition root, the settings, the command line and the demo."""
