/**
 * Stand-in for `@aws-sdk/client-secrets-manager` (which Lambda's Node.js runtime provides):
 * `GetSecretValue` answers the value in GOTA_STAND_IN_SECRET_STRING, and only for the secret
 * id in GOTA_CANARY_SECRET_ARN, so the wrapper must ask for the secret it was configured with.
 */
'use strict';

class GetSecretValueCommand {
  constructor(input) {
    this.input = input;
  }
}

class SecretsManagerClient {
  async send(command) {
    if (!(command instanceof GetSecretValueCommand)) throw new Error('stand-in: only GetSecretValue');
    if (command.input.SecretId !== process.env.GOTA_CANARY_SECRET_ARN) {
      throw new Error(`stand-in: ResourceNotFoundException for ${command.input.SecretId}`);
    }
    const value = process.env.GOTA_STAND_IN_SECRET_STRING;
    if (value === undefined) throw new Error('stand-in: GOTA_STAND_IN_SECRET_STRING is not set');
    return { SecretString: value };
  }
}

module.exports = { GetSecretValueCommand, SecretsManagerClient };
