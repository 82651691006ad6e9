"""The Appbeam desktop sender: a browser whose package downloads become pushes to your devices.

Modules, one job each:

- ``cli``: the ``appbeam sender`` flags and start-up (no Qt import at module level).
- ``qt_env``: environment Qt WebEngine needs before it is imported (headless, sandbox).
- ``profile``: the sender's per-profile settings, device identity and token store.
- ``install_info``: install information from a page's JSON-LD or from a link (no Qt).
- ``push_board``: the pushes this computer sent and their live states (no Qt).
- ``relay_worker``: relay calls and the event stream off the UI thread.
- ``downloads``: download interception; packages become push requests, the rest is saved.
- ``page_inspector``: runs JavaScript in a page to collect its JSON-LD.
- ``web_api``: the ``appbeam.push(...)`` JavaScript API over QWebChannel.
- ``browser``: the web view with its "Send to device..." link menu.
- ``picker``: the floating device picker layer.
- ``pushes_panel``: the Pushes dock.
- ``notice``: the floating notice shown after a push is sent.
- ``setup_dialog``: first-run relay address, login or account creation.
- ``main_window``: the window: toolbar, address bar, browser, picker, pushes dock.
- ``app``: wires everything together (the sender's controller).
- ``screenshots``: renders the main screens to PNG files.
- ``add_phone``: the "Add a phone" dialog: a pairing QR code and the same code to type.
- ``push_cli``: ``appbeam push FILE|URL|APP_ID --to DEVICE``: the same signed push from a script (no Qt).
"""
