"""moto_server with one fix applied in memory: KMS Sign with MessageType=DIGEST.

moto 5.2.1 ignores MessageType and hashes the message again, so a signature over a digest (what
gatehouse sends, as AWS KMS documents) does not verify (getmoto/moto#10202, fixed upstream, not
released). This launcher imports moto, replaces that one behaviour for RSA keys, and runs moto's own
server `main` with the same arguments; no file of moto's is changed. Drop the patch once a moto
release signs digests: test/deployed/moto-sign-digest.test.ts shows whether the unpatched moto still needs it.

Usage: python3 scripts/moto-server.py [--unpatched] [moto_server arguments: -H 127.0.0.1 -p 0 ...]
"""
import sys
import threading

from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from moto.kms import responses as kms_responses
from moto.kms import utils as kms_utils
from moto.kms.exceptions import ValidationException
from moto.server import main

_request = threading.local()  # moto's server is threaded: the flag must be per request


def patch_sign_digest() -> None:
    original_response_sign = kms_responses.KmsResponse.sign
    original_rsa_sign = kms_utils.RSAPrivateKey.sign
    padding_and_hash = kms_utils.RSAPrivateKey._RSAPrivateKey__padding_and_hash_algorithm

    def response_sign(self):  # type: ignore[no-untyped-def]
        _request.digest = self._get_param("MessageType") == "DIGEST"
        try:
            return original_response_sign(self)
        finally:
            _request.digest = False

    def rsa_sign(self, message: bytes, signing_algorithm: str) -> bytes:
        if not getattr(_request, "digest", False):
            return original_rsa_sign(self, message, signing_algorithm)
        kms_utils.validate_signing_algorithm(signing_algorithm, kms_utils.SigningAlgorithm.rsa_signing_algorithms())
        pad, hash_algorithm = padding_and_hash(self, signing_algorithm)
        if len(message) != hash_algorithm.digest_size:
            raise ValidationException(f"Digest is invalid length for algorithm {signing_algorithm}.")
        return self.private_key.sign(message, pad, Prehashed(hash_algorithm))

    kms_responses.KmsResponse.sign = response_sign
    kms_utils.RSAPrivateKey.sign = rsa_sign


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--unpatched" in args:
        args.remove("--unpatched")
    else:
        patch_sign_digest()
    main(args)
