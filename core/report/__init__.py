"""Results that leave the app: the PDF report and the DICOM Segmentation."""
