"""What an image shows: whole-frame descriptors, the shipped view model, its training and its feature."""
