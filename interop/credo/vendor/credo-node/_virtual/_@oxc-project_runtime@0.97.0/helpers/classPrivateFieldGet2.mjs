import { _assertClassBrand } from "./assertClassBrand.mjs";

//#region \0@oxc-project+runtime@0.97.0/helpers/classPrivateFieldGet2.js
function _classPrivateFieldGet2(s, a) {
	return s.get(_assertClassBrand(s, a));
}

//#endregion
export { _classPrivateFieldGet2 };