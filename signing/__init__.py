"""Keys, certificates, PDF rendering and PAdES signing (independent of the engine and the web)."""
