"""Android entry point: python-for-android (buildozer.spec) starts ``main.py`` in the source dir."""

from mobile_receiver.android_main import main

main()
