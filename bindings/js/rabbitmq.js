// The error class of the amqpjs/rabbitmq module (docs/api.md, "The broker's
// view"). Evaluated once per runtime when the module is first required.
(function () {
  'use strict';
  // ManagementError(message, status, url, method, reason): a call to the
  // management API failed. status is the HTTP status (401, 404, ...), or 0
  // when the API did not answer (refused, timed out).
  class ManagementError extends Error {
    constructor(message, status = 0, url = '', method = '', reason = '') {
      super(message === undefined ? '' : String(message));
      this.status = status;
      this.url = url;
      this.method = method;
      this.reason = reason;
    }
  }
  Object.defineProperty(ManagementError.prototype, 'name', { value: 'ManagementError', writable: true, configurable: true });
  return ManagementError;
})
