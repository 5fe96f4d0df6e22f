"""Keys, certificates, PDF rendering and PAdES signing (independent of the engine and the web)."""
import warnings

from cryptography.utils import CryptographyDeprecationWarning

with warnings.catch_warnings():
    # pyHanko (0.38) imports cryptography's DSA private-key type when it loads, for a type check when a
    # DSA key signs, which no key here ever does. cryptography 51 deprecated DSA and warns on that
    # import: once per process on the server's error stream, and as an error in the tests. pyHanko is
    # loaded here, before any module of this package uses it, with that one warning silenced.
    warnings.filterwarnings("ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning)
    import pyhanko.sign  # noqa: F401
