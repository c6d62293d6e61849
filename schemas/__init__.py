"""The recorded JSON Schemas the emulator validates requests and responses against."""
