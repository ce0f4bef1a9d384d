/**
 * What the Device's bundle has instead of `libphonenumber-js/max` (apps/device/webpack.config.js).
 * class-validator's index loads every decorator, and its IsPhoneNumber loads libphonenumber-js with
 * its metadata: ~530 KB of code and ~1.5 MiB of the Device's heap, for phone numbers nothing in the
 * Device validates (apps/device/webpack.config.spec.ts checks that none asks). Asked anyway (a DTO
 * that gained @IsPhoneNumber), it throws, which class-validator takes for "not a phone number": every
 * phone number is refused, none let through.
 */
export function parsePhoneNumber(): never {
  throw new Error('The Device is built without libphonenumber-js (apps/device/webpack.config.js): it validates no phone numbers.');
}
