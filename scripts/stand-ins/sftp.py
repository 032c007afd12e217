"""An SFTP server for the tests (asyncssh): serves ROOT to the user `oas`
(password `oas-sftp-secret`), with a host key made on start whose public
half is written to KEY_FILE.

    python sftp.py PORT ROOT KEY_FILE
"""

import asyncio
import sys

import asyncssh


class Server(asyncssh.SSHServer):
    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        return username == "oas" and password == "oas-sftp-secret"


async def main():
    port, root, key_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    key = asyncssh.generate_private_key("ssh-ed25519")
    with open(key_file, "w") as out:
        out.write(key.export_public_key().decode())
    await asyncssh.create_server(
        Server,
        "127.0.0.1",
        port,
        server_host_keys=[key],
        sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=root),
    )
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
