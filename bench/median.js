"use strict";

/** The median of a list of numbers (the mean of the middle two for an even count). */
module.exports = function median(numbers) {
  const values = [...numbers].sort((a, b) => a - b);
  const mid = values.length / 2;
  return values.length % 2 ? values[Math.floor(mid)] : (values[mid - 1] + values[mid]) / 2;
};
