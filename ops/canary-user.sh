#!/usr/bin/env bash
# Creates (or resets) the synthetic user in the stage's pool with the password in its secret:
#   ops/canary-user.sh Gota-dev
# Needs the AWS CLI with credentials for the stack's account and region. Idempotent.
set -euo pipefail
stack="${1:?usage: ops/canary-user.sh <stack name, e.g. Gota-dev>}"
out() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
pool="$(out UserPoolId)"
secret="$(aws secretsmanager get-secret-value --secret-id "$(out CanarySecretArn)" --query SecretString --output text)"
username="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])' <<<"$secret")"
password="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])' <<<"$secret")"
# The pool's usernames are e-mail addresses; the address is marked verified so that no mail is
# ever sent. A user that already exists only gets its password reset below.
if ! error="$(aws cognito-idp admin-create-user --user-pool-id "$pool" --username "$username" \
  --user-attributes Name=email,Value="$username" Name=email_verified,Value=true \
  --message-action SUPPRESS 2>&1 >/dev/null)"; then
  case "$error" in
    *UsernameExistsException*) ;;
    *) echo "$error" >&2; exit 1 ;;
  esac
fi
aws cognito-idp admin-set-user-password --user-pool-id "$pool" --username "$username" \
  --password "$password" --permanent
echo "synthetic user $username is ready in $pool"
