"""Data shipped inside the wheel (mapped from the top-level shapefiles/ and examples/)."""
