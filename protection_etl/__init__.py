"""protection_etl."""
