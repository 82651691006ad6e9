"""The Appbeam receiver: the phone app that takes pushes from the relay, downloads and installs them."""
