import { _assertClassBrand } from "./assertClassBrand.mjs";

//#region \0@oxc-project+runtime@0.97.0/helpers/classPrivateFieldSet2.js
function _classPrivateFieldSet2(s, a, r) {
	return s.set(_assertClassBrand(s, a), r), r;
}

//#endregion
export { _classPrivateFieldSet2 };