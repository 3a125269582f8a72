// Removes the previous build so deleted sources never linger in dist/.
'use strict';
require('node:fs').rmSync(require('node:path').resolve(__dirname, '..', 'dist'), {
  recursive: true,
  force: true,
});
