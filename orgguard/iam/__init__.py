"""One IAM policy model for the whole product.

``policy``   parse and normalise policy documents, equivalence, and "does B grant anything A does not"
             (the review's diff and gate and the verifier both use it, so they cannot disagree);
``evaluate`` evaluate a request against policies (explicit deny wins), used to prove what the SCP denies;
``patterns`` IAM wildcard and ARN matching, and containment of one pattern in another.
"""
