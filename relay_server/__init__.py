"""The Appbeam relay: accounts, devices, store-and-forward pushes, package mirror, app store.

``relay_server.app.create_app`` builds the Flask application; ``appbeam relay`` serves it
with gevent so that one process holds thousands of long-lived device event streams. This
package's ``__init__`` stays empty of imports so that gevent can patch the standard
library before anything else loads.
"""
