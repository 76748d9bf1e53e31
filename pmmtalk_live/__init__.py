"""pmmtalk-live: drive an ARKit-rigged face (MetaHuman, VRM, ...) from speech, offline or live."""

__version__ = "0.1.0"
