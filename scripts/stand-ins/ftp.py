"""An FTP server for the tests, plain and explicit TLS on one port
(pyftpdlib): serves ROOT to the user `oas` (password `oas-ftp-secret`),
with a certificate for 127.0.0.1 signed by a test authority written to
CA_FILE.

    python ftp.py PORT ROOT CA_FILE
"""

import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler
from pyftpdlib.servers import FTPServer


def certificates(folder, ca_file):
    """A test authority and a certificate for 127.0.0.1 it signs."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OAS test authority")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(ca_file, "wb") as out:
        out.write(ca.public_bytes(pem))
    cert_file = os.path.join(folder, "ftp-cert.pem")
    key_file = os.path.join(folder, "ftp-key.pem")
    with open(cert_file, "wb") as out:
        out.write(leaf.public_bytes(pem))
    with open(key_file, "wb") as out:
        out.write(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
    return cert_file, key_file


def main():
    port, root, ca_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    cert_file, key_file = certificates(os.path.dirname(os.path.abspath(ca_file)), ca_file)
    authorizer = DummyAuthorizer()
    authorizer.add_user("oas", "oas-ftp-secret", root, perm="elr")
    handler = TLS_FTPHandler
    handler.certfile = cert_file
    handler.keyfile = key_file
    handler.authorizer = authorizer
    handler.tls_control_required = False
    handler.tls_data_required = False
    handler.passive_ports = range(port + 1, port + 40)
    FTPServer(("127.0.0.1", port), handler).serve_forever()


if __name__ == "__main__":
    main()
