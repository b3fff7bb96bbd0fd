import { _checkPrivateRedeclaration } from "./checkPrivateRedeclaration.mjs";

//#region \0@oxc-project+runtime@0.97.0/helpers/classPrivateFieldInitSpec.js
function _classPrivateFieldInitSpec(e, t, a) {
	_checkPrivateRedeclaration(e, t), t.set(e, a);
}

//#endregion
export { _classPrivateFieldInitSpec };