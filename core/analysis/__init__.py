"""What the Segment page computes without any UI: uploads, analyses, measurements, overlays and exports."""
