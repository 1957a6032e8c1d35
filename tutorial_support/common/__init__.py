"""What both chapters share: start-up, flags, errors, data, outputs, reports, figures."""
